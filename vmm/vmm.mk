# vmm/: generic VM and exit handling (both vendors), the memslot setup,
# open-bus emulation.
VMM_SRCS := vmm/vm.c vmm/guest_setup.c vmm/exit.c vmm/cpuid.c vmm/msr.c vmm/io.c \
	vmm/hypercall.c vmm/insn.c vmm/vcpu_state.c vmm/event.c vmm/xsetbv.c vmm/vm_plat.c vmm/io_string.c vmm/insn_decode.c \
	vmm/guest_mem.c vmm/mmio.c vmm/smp.c

KEEL_SRCS += $(VMM_SRCS)

# The instruction decoder is pure: tested hosted.
HOSTED_TESTS += vmm_insn_decode_test
$(call hosted_program,vmm_insn_decode_test,vmm/insn_decode.c vmm/insn_decode_test.c tests/unit/ktest.c,-lcmocka)

# The entry states (vcpu_state.c) are pure: tested hosted.
HOSTED_TESTS += vmm_vcpu_state_test
$(call hosted_program,vmm_vcpu_state_test,vmm/vcpu_state.c vmm/vcpu_state_test.c,-lcmocka)
