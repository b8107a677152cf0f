// Allocator tuning for simulator processes: keep freed heap mapped.
#pragma once

namespace reliant::sim {

// glibc returns the top of the heap to the kernel whenever more than 128 KB is free and maps it
// back on the next allocation; a simulation allocates and frees in that pattern all the time
// (measured: 30 000 page faults and 0.3 s of system time in a 0.4 s run, 0.05 s without). Call
// once at the start of a simulator process on glibc's allocator: `sim_tests`. (`reliant-sim`
// allocates with jemalloc, which keeps freed pages for its decay time anyway.)
void keep_heap_mapped();

}  // namespace reliant::sim
