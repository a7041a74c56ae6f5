# vmm/nested/: nested SVM for guests (docs/nested-svm.md). The consistency
# checks, the intercept merge and the exit routing are pure and tested
# hosted (vmm_nested_test) and by a libFuzzer target (tests/fuzz/fuzz_vmcb.c).
NSVM_PURE_SRCS := vmm/nested/nsvm_check.c vmm/nested/nsvm_route.c
KEEL_SRCS += $(NSVM_PURE_SRCS) vmm/nested/nsvm_vmrun.c vmm/nested/nsvm_insn.c \
	vmm/nested/nsvm_exit.c vmm/nested/nsvm_vm.c

HOSTED_TESTS += vmm_nested_test
$(call hosted_program,vmm_nested_test,$(NSVM_PURE_SRCS) vmm/insn_decode.c vmm/nested/nsvm_test.c,-lcmocka)
