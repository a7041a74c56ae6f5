# Intel VMX backend (docs/vmx.md).
KEEL_SRCS += arch/x86/vmx.c arch/x86/vmx_caps.c arch/x86/vmx_dump.c arch/x86/vmx_entry.S \
             arch/x86/vmx_exit.c arch/x86/vmx_rules.c arch/x86/vmx_vmcs.c

# The pure parts (exit decoding, flush plan, encodings), tested hosted.
HOSTED_TESTS += vmx_rules_test
$(call hosted_program,vmx_rules_test,arch/x86/vmx_rules.c arch/x86/vmx_rules_test.c tests/unit/ktest.c,-lcmocka)
