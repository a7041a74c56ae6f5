# vmm/: the CPUID model and the MSR policy (docs/platform.md, "CPUID" and
# "MSRs"): pure tables, built into keel.efi and tested hosted; the exit
# handlers that use them are vmm/cpuid.c and vmm/msr.c.
KEEL_SRCS += vmm/cpuid_model.c

HOSTED_TESTS += vmm_cpuid_model_test
$(call hosted_program,vmm_cpuid_model_test,vmm/cpuid_model.c vmm/cpuid_model_test.c,-lcmocka)

KEEL_SRCS += vmm/msr_policy.c
HOSTED_TESTS += vmm_msr_policy_test
$(call hosted_program,vmm_msr_policy_test,vmm/msr_policy.c vmm/msr_policy_test.c,-lcmocka)
