// SPDX-License-Identifier: MIT
/*
 * The L2 of the Linux-KVM-as-L1 boot test (tests/boot/qemu-kvm-l1.sh): a
 * minimal KVM user in L1 (Linux with kvm_amd under Keel). One VM, one vCPU
 * in real mode running "mov al, 0x42; out 0x10, al; cpuid; hlt": KVM runs it
 * with VMRUN, which Keel emulates. Prints "kvmtest: ..." lines; exit 0 when
 * the OUT and the HLT came back to KVM's user space as they should.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	const unsigned char code[] = { 0xb0, 0x42, 0xe6, 0x10, 0x0f, 0xa2, 0xf4 }; /* mov al,0x42; out 0x10,al; cpuid; hlt */
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu, n;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_run *run;
	void *mem;
	int seen_out = 0;

	if (kvm < 0) { perror("kvmtest: /dev/kvm"); return 1; }
	printf("kvmtest: KVM API %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) { perror("kvmtest: KVM_CREATE_VM"); return 1; }
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy((char *)mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region reg = { .slot = 0, .guest_phys_addr = 0,
		.memory_size = 0x10000, .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0) { perror("kvmtest: region"); return 1; }
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) { perror("kvmtest: KVM_CREATE_VCPU"); return 1; }
	n = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ioctl(vcpu, KVM_GET_SREGS, &s);
	s.cs.base = 0; s.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &s);
	memset(&r, 0, sizeof(r));
	r.rip = 0x1000; r.rflags = 2;
	ioctl(vcpu, KVM_SET_REGS, &r);
	for (int i = 0; i < 10; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) { perror("kvmtest: KVM_RUN"); return 1; }
		if (run->exit_reason == KVM_EXIT_IO) {
			unsigned char val = *((unsigned char *)run + run->io.data_offset);

			printf("kvmtest: L2 did OUT port 0x%x value 0x%x\n", run->io.port, val);
			seen_out = run->io.port == 0x10 && val == 0x42;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT) {
			printf("kvmtest: L2 halted: %s\n", seen_out ? "PASS" : "FAIL (no OUT)");
			return seen_out ? 0 : 1;
		}
		printf("kvmtest: exit reason %d (hw 0x%llx)\n", run->exit_reason,
		       (unsigned long long)run->hw.hardware_exit_reason);
		return 1;
	}
	return 1;
}
