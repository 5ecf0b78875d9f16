// Element-wise loops of the addon split over the calling thread's OpenMP team, where the addon is
// built with OpenMP (the oneDNN build, -fopenmp; the team is the addon's thread count, 1 on the
// pool threads: products.h, useOneThread). Without OpenMP the loops run serially, as before.
// Only for loops whose iterations are independent and whose result does not depend on the split.
#pragma once

#ifdef _OPENMP
#define MUON_PRAGMA(text) _Pragma(#text)
// Splits the following `for` statically when `condition` holds (a large enough loop).
#define MUON_PARALLEL_FOR_IF(condition) MUON_PRAGMA(omp parallel for schedule(static) if (condition))
#else
#define MUON_PARALLEL_FOR_IF(condition)
#endif
