#include "proto/uri.h"
