# MMU unit tests (cmocka): entry formats and walker, and the MMU API.
ifneq ($(strip $(MMU_HOSTED_SRCS)),)
HOSTED_TESTS += unit_spte unit_mmu unit_tlb unit_lock
$(call hosted_program,unit_spte,tests/unit/test_spte.c $(MMU_HOSTED_SRCS),-lcmocka)
$(call hosted_program,unit_mmu,tests/unit/test_mmu.c $(MMU_HOSTED_SRCS),-lcmocka)
$(call hosted_program,unit_tlb,tests/unit/test_tlb.c $(MMU_HOSTED_SRCS),-lcmocka)
$(call hosted_program,unit_lock,tests/unit/test_lock.c $(MMU_HOSTED_SRCS),-lcmocka)
endif
