# The MMU: portable sources, built into keel.efi with rt/mmu_env.c (the
# runtime provides the MMU's environment; mmu/ imports nothing of Keel) and into
# hosted programs with env_hosted.c (tests use MMU_HOSTED_SRCS).
MMU_SRCS := mmu/mmu.c mmu/percpu.c mmu/lock.c mmu/srcu.c mmu/spte.c mmu/spte_npt.c mmu/spte_ept.c \
            mmu/tdp_iter.c mmu/tdp_mmu.c mmu/reclaim.c mmu/root.c mmu/zap.c \
            mmu/fault.c mmu/memslot.c mmu/dirty.c mmu/mmu_cache.c mmu/verify.c \
            mmu/vcpu_mode.c mmu/remote_flush.c
MMU_HOSTED_SRCS := $(MMU_SRCS) mmu/env_hosted.c mmu/env_hosted_cpu.c
KEEL_SRCS += $(MMU_SRCS)
