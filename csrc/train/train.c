/*
 * train.c -- whole-network training, batched inference and the full-data
 * objective, float and double: the per-dtype bodies included in order,
 * from the layers and the plain step to the speed paths and the loop.
 * Layer descriptors and sizes: train/net.c; the plan: train/plan.c.
 */
#include <string.h>
#include "core/fm_internal.h"
#include "core/team.h"
#include "train/net.h"
#include "train/plan.h"
#include "train/fast/rank1.h"
#include "train/fast/lowrank.h"
#include "train/fast/sparse_fwd.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"
#include "train/ws_impl.h"
#include "train/layers_impl.h"
#include "train/fast/nz_impl.h"
#include "train/fast/lowrank_impl.h"
#include "train/fast/ahead0_impl.h"
#include "train/fast/fused_sgd_impl.h"
#include "train/fast/dense_fast_impl.h"
#include "train/batch_impl.h"
#include "train/step_impl.h"
#include "train/loop_impl.h"
#include "core/fm_dtype_end.h"

#include "core/fm_dtype_f64.h"
#include "layers/act_impl.h"
#include "train/ws_impl.h"
#include "train/layers_impl.h"
#include "train/fast/nz_impl.h"
#include "train/fast/lowrank_impl.h"
#include "train/fast/ahead0_impl.h"
#include "train/fast/fused_sgd_impl.h"
#include "train/fast/dense_fast_impl.h"
#include "train/batch_impl.h"
#include "train/step_impl.h"
#include "train/loop_impl.h"
#include "core/fm_dtype_end.h"
