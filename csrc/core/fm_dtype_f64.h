/* Select double for the next *_impl.h include (see fm_internal.h). */
#define FM_T double
#define FM_SFX f64
#define FM_EXP exp
#define FM_LOG log
#define FM_LOG1P log1p
#define FM_TANH tanh
#define FM_SQRT sqrt
#define FM_FABS fabs
#define FM_ERF erf
