// Copyright 2026 The libprusaconnect Authors.
//
// PRUSACONNECT_API marks what the shared library exports.
//
// libprusaconnect is compiled with hidden visibility: only the public API
// declared in these headers (classes and functions marked PRUSACONNECT_API)
// is in the dynamic symbol table. The internals (`prusaconnect::internal`)
// and the library's own template instantiations stay private, which keeps
// the ABI to what is documented and the symbol tables small (fewer pages at
// load, faster symbol lookup; docs/PERFORMANCE.md).
//
// A host never needs to define anything: the macro expands to the default
// visibility attribute with GCC and Clang and to nothing elsewhere (and for
// SWIG, which parses these headers for the bindings).
#ifndef PRUSACONNECT_EXPORT_H_
#define PRUSACONNECT_EXPORT_H_

#if defined(SWIG) || !(defined(__GNUC__) || defined(__clang__))
#define PRUSACONNECT_API
#else
#define PRUSACONNECT_API __attribute__((visibility("default")))
#endif

#endif  // PRUSACONNECT_EXPORT_H_
