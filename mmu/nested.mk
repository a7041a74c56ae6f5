# The nested MMU (shadow NPT for L2 guests, docs/nested-mmu.md): part of the
# MMU in keel.efi and in every hosted program (the TDP MMU's reduce paths call
# its hooks).
NESTED_SRCS := mmu/nested.c mmu/nested_walk.c mmu/nested_root.c mmu/nested_fault.c \
               mmu/nested_reduce.c mmu/nested_verify.c
MMU_SRCS += $(NESTED_SRCS)
MMU_HOSTED_SRCS += $(NESTED_SRCS)
KEEL_SRCS += $(NESTED_SRCS)

# Hosted tests of the nested MMU (tests/nested/, tests/seeds/seed00N_nested.c).
HOSTED_TESTS += unit_nested
$(call hosted_program,unit_nested,tests/nested/test_nested.c $(MMU_HOSTED_SRCS),-lcmocka)
