# MMU unit tests (cmocka): entry formats and walker, the MMU API, the flush
# rules (model TLB), the locks; plus a compile-time check that exclusive-only
# functions reject the shared-lock token.
HOSTED_TESTS += unit_spte unit_mmu unit_tlb unit_lock unit_race
# Every cmocka program runs its cases through ktest (one child per case, a
# watchdog each): link KTEST_SRCS.
KTEST_SRCS := tests/unit/ktest.c
$(call hosted_program,unit_spte,tests/unit/test_spte.c $(KTEST_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)
$(call hosted_program,unit_mmu,tests/unit/test_mmu.c $(KTEST_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)
$(call hosted_program,unit_tlb,tests/unit/test_tlb.c $(KTEST_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)
$(call hosted_program,unit_lock,tests/unit/test_lock.c $(KTEST_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)
# Data-race classes in the one interleaving that exposes each (test_race.c).
$(call hosted_program,unit_race,tests/unit/test_race.c $(KTEST_SRCS) $(MMU_HOSTED_SRCS),-lcmocka)

# The right token compiles; the shared token passed to zap/reclaim does not.
$(BUILD)/unit-token-check.stamp: tests/unit/token_misuse.c mmu/mmu_internal.h mmu/lock.h
	@mkdir -p $(@D)
	@$(CC) $(HOSTED_CFLAGS) -DMISUSE=0 -fsyntax-only $< || \
	  { echo "token check: the correct use of the exclusive token does not compile"; exit 1; }
	@if $(CC) $(HOSTED_CFLAGS) -DMISUSE=1 -fsyntax-only $< 2>/dev/null; then \
	  echo "token check: a shared-lock token was accepted by exclusive-only functions"; exit 1; fi
	@touch $@
$(foreach f,$(FLAVOURS),$(BUILD)/$(f)/unit_mmu): | $(BUILD)/unit-token-check.stamp

# MMU_BUG_ON in every build: unit_bug with the flavour's flags, unit_bug_rel
# with -DKEEL_NDEBUG on top (assertions compiled out; the checks must stay).
# One compiler run (its own objects would clash with the flavour's).
HOSTED_TESTS += unit_bug unit_bug_rel
UNIT_BUG_SRCS := tests/unit/test_bug.c $(KTEST_SRCS) $(MMU_HOSTED_SRCS)
$(call hosted_program,unit_bug,$(UNIT_BUG_SRCS),-lcmocka)
define unit_bug_rel_rule
$(BUILD)/$(1)/unit_bug_rel: $(UNIT_BUG_SRCS) $(wildcard mmu/*.h include/keel/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(HOSTED_CFLAGS) $$(FLAVOUR_CFLAGS_$(1)) -DKEEL_NDEBUG -o $$@ $(UNIT_BUG_SRCS) -lcmocka
endef
$(foreach f,$(FLAVOURS),$(eval $(call unit_bug_rel_rule,$(f))))
