# vmm/: generic VM and exit handling (both vendors), the memslot setup,
# open-bus emulation. Read after mmu/*.mk, so MMU_SRCS is known here.
VMM_SRCS := vmm/vm.c vmm/guest_setup.c vmm/exit.c vmm/cpuid.c vmm/msr.c vmm/io.c \
	vmm/hypercall.c vmm/insn.c vmm/insn_decode.c vmm/guest_mem.c vmm/mmio.c

ifneq ($(strip $(MMU_SRCS)),)
KEEL_SRCS += $(VMM_SRCS) $(X86_TDP_SRCS) $(filter-out $(KEEL_SRCS),$(MMU_SRCS))
else
# Until mmu/ has sources: keel.efi still links and says why it stops.
KEEL_SRCS += vmm/no_mmu.c
endif

# The instruction decoder is pure: tested hosted.
HOSTED_TESTS += vmm_insn_decode_test
$(call hosted_program,vmm_insn_decode_test,vmm/insn_decode.c vmm/insn_decode_test.c,-lcmocka)
