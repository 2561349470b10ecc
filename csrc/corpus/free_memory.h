// Memory the corpus ops freed stays in glibc's arenas (per thread) unless handed back: the
// word tables and id buffers of a preparation would then sit in the process's resident memory
// for the whole training that follows.
#pragma once
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace wordembed::corpus {

inline void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace wordembed::corpus
