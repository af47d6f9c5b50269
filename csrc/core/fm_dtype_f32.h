/* Select float for the next *_impl.h include (see fm_internal.h). */
#define FM_T float
#define FM_DTYPE_F32 1 /* float-only kernels (bf16 products) may be called */
#define FM_SFX f32
#define FM_EXP expf
#define FM_LOG logf
#define FM_LOG1P log1pf
#define FM_TANH tanhf
#define FM_SQRT sqrtf
#define FM_FABS fabsf
#define FM_ERF erff
