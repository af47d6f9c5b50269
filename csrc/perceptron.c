/*
 * perceptron.c -- the single neuron with a Heaviside step trained by the
 * perceptron rule; float and double (body in perceptron_impl.h).
 */
#include "fm_internal.h"

#include "fm_dtype_f32.h"
#include "perceptron_impl.h"
#include "fm_dtype_end.h"

#include "fm_dtype_f64.h"
#include "perceptron_impl.h"
#include "fm_dtype_end.h"
