// mallopt settings that stop heap trimming and large-allocation mmaps.
#include "sim/allocator.h"

#include <malloc.h>

namespace reliant::sim {

void keep_heap_mapped() {
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
}

}  // namespace reliant::sim
