/* //tests/bazel:add_short as a dependent sees it: its header by the short include that
 * include_prefix and strip_include_prefix give, `defines` but not `local_defines`. */
#include "triton/add_short.h"

#if TRITON_ADD_SHORT != 1
#error "the defines of a triton_link_library must reach its dependents"
#endif
#ifdef TRITON_ADD_SHORT_LOCAL
#error "the local_defines of a triton_link_library must stay in the library"
#endif

int main(void) { return add_get_num_algos() == 1 ? 0 : 1; }
