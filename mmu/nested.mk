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

HOSTED_TESTS += seeds_nested
SEEDS_NESTED_SRCS := tests/nested/seeds_nested_main.c $(sort $(wildcard tests/seeds/seed*_nested.c))
$(call hosted_program,seeds_nested,$(SEEDS_NESTED_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)

# The nested token compiles; the TDP MMU's tokens passed to nested mutators do not.
$(BUILD)/nested-token-check.stamp: tests/nested/token_misuse.c mmu/nested_internal.h mmu/mmu_internal.h
	@mkdir -p $(@D)
	@$(CC) $(HOSTED_CFLAGS) -DMISUSE=0 -fsyntax-only $< || \
	  { echo "nested token check: the nested token does not compile"; exit 1; }
	@for m in 1 2; do if $(CC) $(HOSTED_CFLAGS) -DMISUSE=$$m -fsyntax-only $< 2>/dev/null; then \
	  echo "nested token check: a TDP MMU token was accepted by a nested mutator ($$m)"; exit 1; fi; done
	@touch $@
$(foreach f,$(FLAVOURS),$(BUILD)/$(f)/seeds_nested): | $(BUILD)/nested-token-check.stamp

HOSTED_TESTS += stress_nested
$(call hosted_program,stress_nested,tests/nested/stress_nested.c $(MMU_HOSTED_SRCS),-lcmocka)

BENCH_PROGRAMS += bench_nested
$(call hosted_program,bench_nested,tests/nested/bench_nested.c $(MMU_HOSTED_SRCS),-lcmocka)
