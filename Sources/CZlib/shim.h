// zlib, to show gzip and deflate bodies decoded in the inspector.
#ifndef DEVSERVE_CZLIB_SHIM_H
#define DEVSERVE_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 is a macro.
static inline int devserve_zlib_inflate_init(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}
#endif
