# arch/x86/: shared CPU primitives, descriptor tables, host paging, panic
# path, and the SVM backend. The VMX backend adds its own files (vmx.mk,
# read before this fragment); the vendor table then lists both backends.
KEEL_SRCS += arch/x86/cpu.c arch/x86/serial.c arch/x86/desc.c arch/x86/entry.asm \
	arch/x86/trap.c arch/x86/platform.c arch/x86/paging.c arch/x86/pcpu.c

# The backends need the MMU (their tdp_format); vmm/vmm.mk adds these once
# mmu/ provides MMU_SRCS.
X86_TDP_SRCS := arch/x86/vendor.c arch/x86/svm.c arch/x86/svm_exit.c arch/x86/svm_run.asm
ifneq ($(filter arch/x86/vmx.c,$(KEEL_SRCS)),)
X86_TDP_SRCS += arch/x86/vendor_table.c
else
X86_TDP_SRCS += arch/x86/vendor_table_svm.c
endif
