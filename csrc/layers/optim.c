/*
 * optim.c -- optimizer update kernels (SGD/momentum/Nesterov, Adagrad,
 * RMSprop, Adam, AdamW), float and double; bodies in optim_impl.h.
 */
#include "core/fm_internal.h"
#include "core/team.h"

#include "core/fm_dtype_f32.h"
#include "layers/optim_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/optim_impl.h"
#include "core/fm_dtype_end.h"
