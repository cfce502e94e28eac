#include "proto/uwsgi.h"
