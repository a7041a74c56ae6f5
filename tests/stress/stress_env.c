// SPDX-License-Identifier: MIT
/* The hosted environment's test knobs (mmu/env_hosted.h), as the harness uses them. */
#include "stress_mmu_glue.h"

#include <mmu/env_hosted.h>

/* env_hosted fails every k-th page allocation: k = 1000 / per_mille gives the
 * rate, and which allocation fails depends only on the allocation order. */
void stress_env_set_alloc_fail(unsigned per_mille, u64 seed)
{
	env_hosted_fail_page_alloc_every(per_mille ? MAX(1000u / per_mille, 1u) : 0);
}

void stress_env_set_always_yield(bool on)
{
	env_hosted_set_resched(on ? ENV_RESCHED_ALWAYS : ENV_RESCHED_WHEN_CONTENDED);
}
