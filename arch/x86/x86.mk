# arch/x86/: shared CPU primitives, descriptor tables, host paging, panic
# path, vendor selection, and the SVM backend. The VMX backend is in vmx.mk.
KEEL_SRCS += arch/x86/cpu.c arch/x86/desc.c arch/x86/entry.asm \
	arch/x86/trap.c arch/x86/paging.c arch/x86/pcpu.c arch/x86/lapic.c arch/x86/intr.c arch/x86/irq.asm arch/x86/smp.c \
	arch/x86/ap_boot.asm \
	arch/x86/vendor.c arch/x86/host_timer.c arch/x86/fpu.c arch/x86/svm.c arch/x86/svm_asid.c arch/x86/svm_exit.c \
	arch/x86/svm_state.c arch/x86/svm_run.asm

# SVM ASID allocation (pure), tested hosted.
HOSTED_TESTS += svm_asid_test
$(call hosted_program,svm_asid_test,arch/x86/svm_asid.c arch/x86/svm_asid_test.c,-lcmocka)
