// Force-included in the fuzz build (clang). Debian's ITK 5.2 headers were generated for GCC only:
// itk_compiler_detection.h stops with "Unsupported compiler" under clang. It is read here once,
// with clang presenting itself as GCC 12 for the length of that header only; its include guard
// then keeps every later #include of it from looking again.
#pragma once
#if defined(__clang__) && __has_include(<itk_compiler_detection.h>)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wbuiltin-macro-redefined"
#pragma clang diagnostic ignored "-Wmacro-redefined"
#pragma push_macro("__clang__")
#pragma push_macro("__GNUC__")
#pragma push_macro("__GNUC_MINOR__")
#undef __clang__
#undef __GNUC__
#undef __GNUC_MINOR__
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#include <itk_compiler_detection.h>
#pragma pop_macro("__GNUC_MINOR__")
#pragma pop_macro("__GNUC__")
#pragma pop_macro("__clang__")
#pragma clang diagnostic pop
#endif
