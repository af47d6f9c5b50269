/*
 * clip.c -- gradient clipping by global norm and by value, float and double
 * (bodies in clip_impl.h).  Called by the training step's update
 * (train/layers_impl.h) on the data gradient, before the penalties.
 */
#include "core/fm_internal.h"

#include "core/fm_dtype_f32.h"
#include "layers/clip_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/clip_impl.h"
#include "core/fm_dtype_end.h"
