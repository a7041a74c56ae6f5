/* SPDX-License-Identifier: MIT */
/*
 * The contract between Keel and a test guest (docs/guest-abi.md explains
 * it). Shared by vmm/ (Keel's side) and guest/ (the self-test guest); plain
 * constants so the guest can use it freestanding.
 */
#pragma once

/* Memory layout Keel sets up before the first entry (guest-physical). */
#define KEEL_GUEST_PML4_GPA 0x1000ull   /* guest CR3 */
#define KEEL_GUEST_PDPT_GPA 0x2000ull
#define KEEL_GUEST_PD_GPA 0x3000ull     /* one page directory per GiB mapped */
#define KEEL_GUEST_PD_MAX 120           /* up to 0x7b000 */
#define KEEL_GUEST_INFO_GPA 0x7f000ull  /* strings Keel hands to the guest */
#define KEEL_GUEST_STACK_TOP 0x100000ull
#define KEEL_GUEST_LOAD_GPA 0x100000ull /* image loaded here; entry = first byte */
/* Guest RAM (rdi bytes) is [0, MIN(rdi, KEEL_GUEST_RAM_HOLE)) and, when
 * rdi is larger, [KEEL_GUEST_HIGH_RAM, + the rest) (vmm/dev/layout.h's
 * PLAT_PCI_HOLE_BASE and PLAT_HIGH_RAM_BASE). */
#define KEEL_GUEST_RAM_HOLE 0xc0000000ull
#define KEEL_GUEST_HIGH_RAM 0x100000000ull

/*
 * Entry registers (64-bit mode, CPL 0, paging on, interrupts off):
 *   rdi = guest memory size in bytes (RAM: see KEEL_GUEST_RAM_HOLE)
 *   rsi = guest-physical address of the NUL-terminated name of the
 *         self-test to fail on purpose (keel.cfg guest-fail), or 0
 *   rdx = end of the identity map (a multiple of 1 GiB, >= 4 GiB): virtual
 *         = physical for [0, rdx) with 2 MiB pages, writable, executable
 *   rsp = KEEL_GUEST_STACK_TOP
 */

/* Hypercalls: VMMCALL (AMD) or VMCALL (Intel), number in rax; the result
 * is returned in rax (0, or a negative errno such as -38 ENOSYS). */
#define KEEL_HC_PING 1 /* rbx = x  ->  rbx = ~x, rax = 0 */
#define KEEL_HC_DONE 2 /* rbx = failed tests, rcx = tests run; does not return */
/* SMP (docs/guest-abi.md): more vCPUs, each on its own host CPU. */
#define KEEL_HC_VCPUS 3       /* -> rax = vCPUs this VM may run (1 = no SMP) */
#define KEEL_HC_VCPU_START 4  /* rbx = vCPU id (1..), rcx = rip, rdx = rsp -> rax = 0 or
                                 -errno. It starts in 64-bit mode with the caller's
                                 CR0/CR3/CR4/EFER, RFLAGS = 2, rdi = its id, the flat
                                 segments of the entry contract. */
#define KEEL_HC_VCPU_EXIT 5   /* this vCPU (not vCPU 0) stops; does not return */
#define KEEL_HC_DIRTY_LOG 6   /* rbx = 1: dirty logging on for all RAM, 0: off */
#define KEEL_HC_DIRTY_HARVEST 7 /* take and clear the dirty log of all RAM */
#define KEEL_HC_DIRTY_COUNT 8 /* rbx = gpa, rcx = pages -> rax = how many were dirty
                                 in the last harvest */
#define KEEL_HC_ZAP 9         /* rbx = gpa, rcx = bytes: Keel drops those mappings */

/* Ports. */
#define KEEL_COM1_PORT 0x3f8   /* 16550 subset: lines are forwarded as "guest: ..." */
#define KEEL_TEST_PORT 0x520   /* 32-bit scratch register (PLAT_PORT_KEEL_TEST) */
#define KEEL_TEST_PORT_RESET 0x4b45454cu /* "KEEL": read before any write */
/* Every other port reads as all ones; writes are dropped. */

/* CPUID 0x40000000: eax = highest hypervisor leaf, ebx:ecx:edx = "KeelKeelKeel". */
#define KEEL_CPUID_SIGNATURE_LEAF 0x40000000u
#define KEEL_CPUID_SIG_EBX 0x6c65654bu /* "Keel" */

/* Guest-physical addresses outside every memslot behave as open bus: reads
 * return all ones, writes are dropped (Keel logs them). Keel emulates the
 * MOV forms listed in docs/guest-abi.md; any other access stops the VM. */
