/*
 * optim.c -- optimizer update kernels (SGD/momentum/Nesterov, Adagrad,
 * RMSprop, Adam, AdamW), float and double; bodies in optim_impl.h.
 */
#include "fm_internal.h"

#include "fm_dtype_f32.h"
#include "optim_impl.h"
#include "fm_dtype_end.h"

#include "fm_dtype_f64.h"
#include "optim_impl.h"
#include "fm_dtype_end.h"
