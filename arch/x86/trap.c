// SPDX-License-Identifier: MIT
/*
 * Every exception in Keel is fatal: Keel does not fault on purpose. The
 * handler prints the state (vector, error code, CR2, registers, a short
 * stack dump) and stops through the platform exit path.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "rt/cpu_local.h"
#include "rt/platform.h"
#include "arch/x86/trap.h"

#define STACK_DUMP_QWORDS 16

static u64 image_base;

void trap_set_image_base(u64 base)
{
	image_base = base;
}

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "res", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static const char *vector_name(u64 v)
{
	if (v < ARRAY_SIZE(vector_names) && vector_names[v])
		return vector_names[v];
	return "reserved";
}

static void dump_regs(const struct trap_frame *f)
{
	host_log("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		 (unsigned long long)f->rax, (unsigned long long)f->rbx,
		 (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	host_log("  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n",
		 (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		 (unsigned long long)f->rbp, (unsigned long long)f->rsp);
	host_log("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n",
		 (unsigned long long)f->r8, (unsigned long long)f->r9,
		 (unsigned long long)f->r10, (unsigned long long)f->r11);
	host_log("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n",
		 (unsigned long long)f->r12, (unsigned long long)f->r13,
		 (unsigned long long)f->r14, (unsigned long long)f->r15);
	host_log("  rip=%016llx cs=%04llx rflags=%08llx ss=%04llx\n",
		 (unsigned long long)f->rip, (unsigned long long)f->cs,
		 (unsigned long long)f->rflags, (unsigned long long)f->ss);
	host_log("  cr0=%016llx cr3=%016llx cr4=%016llx\n",
		 (unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
		 (unsigned long long)read_cr4());
}

/* The stack is identity-mapped Keel memory; a wild rsp that is not canonical
 * would fault again, so only dump an aligned, canonical one. */
static void dump_stack(u64 rsp)
{
	const u64 *sp = (const u64 *)(uintptr_t)rsp;

	if ((rsp & 7) || (rsp >> 47) != 0) {
		host_log("  stack: rsp not dumpable\n");
		return;
	}
	for (int i = 0; i < STACK_DUMP_QWORDS; i += 2)
		host_log("  [rsp+%02x] %016llx %016llx\n", i * 8, (unsigned long long)sp[i],
			 (unsigned long long)sp[i + 1]);
}

/* An NMI sent by the CPU that stops Keel (rt_stop_others): after a panic,
 * report where this CPU was; then halt. */
static __noreturn void stopped_by_panic(const struct trap_frame *f)
{
	if (rt_panicking())
		host_log("keel: cpu %u stopped: rip=%016llx rsp=%016llx rflags=%08llx "
			 "cr3=%016llx\n", host_cpu_id(), (unsigned long long)f->rip,
			 (unsigned long long)f->rsp, (unsigned long long)f->rflags,
			 (unsigned long long)read_cr3());
	rt_cpu_halt();
}

void trap_entry(struct trap_frame *f)
{
	if (f->vector == 2 && rt_stopping())
		stopped_by_panic(f);
	if (!rt_panic_claim())
		rt_cpu_halt(); /* another CPU is reporting a panic; it stops us */
	host_log("keel: PANIC: exception %s (vector %llu) error=0x%llx cr2=%016llx cpu=%u\n",
		 vector_name(f->vector), (unsigned long long)f->vector,
		 (unsigned long long)f->error, (unsigned long long)read_cr2(), host_cpu_id());
	dump_regs(f);
	if (image_base && f->rip >= image_base)
		host_log("  keel.efi at 0x%llx: rip is keel.so+0x%llx "
			 "(addr2line -e build/keel.so)\n",
			 (unsigned long long)image_base, (unsigned long long)(f->rip - image_base));
	dump_stack(f->rsp);
	rt_panic_finish(); /* stops the other CPUs, each printing its state */
}
