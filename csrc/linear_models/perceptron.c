/*
 * perceptron.c -- the single neuron with a Heaviside step trained by the
 * perceptron rule; float and double (body in perceptron_impl.h).
 */
#include "core/fm_internal.h"

#include "core/fm_dtype_f32.h"
#include "linear_models/perceptron_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "linear_models/perceptron_impl.h"
#include "core/fm_dtype_end.h"
