#include "proto/chunked.h"
