/*
 * gemm_simd_vocab.h -- maps the vector names gemm_simd_impl.h uses onto the
 * per-dtype wrappers a SIMD target file defines (fm_vload_f32, ...), so the
 * kernel bodies follow FM_SFX like every other *_impl.h.
 */
#define FM_V FM_FN(fm_v)
#define FM_VM FM_FN(fm_vm)
#define FM_VL FM_FN(fm_vl)
#define FM_VZERO FM_FN(fm_vzero)
#define FM_VSET1 FM_FN(fm_vset1)
#define FM_VLOAD FM_FN(fm_vload)
#define FM_VSTORE FM_FN(fm_vstore)
#define FM_VMASK FM_FN(fm_vmask)
#define FM_VLOADM FM_FN(fm_vloadm)
#define FM_VSTOREM FM_FN(fm_vstorem)
#define FM_VFMA FM_FN(fm_vfma)
#define FM_VMUL FM_FN(fm_vmul)
#define FM_VADD FM_FN(fm_vadd)
#define FM_VHSUM FM_FN(fm_vhsum)
