/* Undo fm_dtype_f32.h / fm_dtype_f64.h. */
#undef FM_T
#undef FM_DTYPE_F32
#undef FM_SFX
#undef FM_EXP
#undef FM_LOG
#undef FM_LOG1P
#undef FM_TANH
#undef FM_SQRT
#undef FM_FABS
#undef FM_ERF
