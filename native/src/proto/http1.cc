#include "proto/http1.h"
