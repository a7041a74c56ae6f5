// SPDX-License-Identifier: MIT
/*
 * String port I/O: INS and OUTS, with or without REP, in any mode. The
 * memory side goes through the guest's own page tables at ES:rDI (INS) or
 * seg:rSI (OUTS, DS unless overridden), rSI/rDI step by the element size
 * (backwards with RFLAGS.DF), and with REP rCX counts down; all three are
 * as wide as the address size. A page the guest's tables refuse raises #PF
 * at that element, with the registers showing the elements done, as the
 * CPU leaves them. A long REP is done in batches: RIP stays on the
 * instruction until rCX reaches 0, so Keel's slice still ends on time.
 */
#include <keel/errno.h>
#include "arch/x86/cpu.h"
#include "vmm/insn_decode.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

#define STRING_IO_BATCH 4096 /* elements per exit */
#define X86_RFLAGS_DF BIT(10)

static u64 width_mask(unsigned bits)
{
	return bits == 64 ? ~0ull : (1ull << bits) - 1;
}

/* Add 'delta' to the low 'bits' of *r, keeping the rest (16-bit rSI in
 * real mode keeps bits 16-63 as they were; a 32-bit write zero-extends). */
static void reg_add(u64 *r, s64 delta, unsigned bits)
{
	u64 m = width_mask(bits), v = (*r + (u64)delta) & m;

	*r = bits == 32 ? v : (*r & ~m) | v;
}

static void page_fault(struct vcpu *v, u64 lin, u32 pf)
{
	v->regs.cr2 = lin;
	vmm_inject_exception(v, X86_VEC_PF, true, pf);
}

/* One element; false when it raised #PF or stopped the VM. */
static bool one_element(struct vcpu *v, const struct insn_prefixes *p, bool in, u8 size)
{
	u64 *si = vmm_gpr(v, 6), *di = vmm_gpr(v, 7), fault;
	int seg = in ? SEG_ES : (p->seg == SEG_NONE ? SEG_DS : p->seg);
	u64 off = (in ? *di : *si) & width_mask(p->addr_bits);
	u64 lin = vmm_seg_linear(v, seg, off);
	u32 val = 0, pf;
	int r;

	if (in) {
		val = vmm_port_in(v, v->exit.io.port, size);
		r = vmm_linear_copy(v, lin, &val, size, true, &pf, &fault);
	} else {
		r = vmm_linear_copy(v, lin, &val, size, false, &pf, &fault);
		if (!r)
			vmm_port_out(v, v->exit.io.port, size, val);
	}
	if (r == -EFAULT) {
		page_fault(v, fault, pf);
		return false;
	}
	if (r) {
		vm_stop(v->vm, "string port I/O at port 0x%x with memory outside RAM (linear "
			"0x%llx)", v->exit.io.port, (unsigned long long)lin);
		return false;
	}
	reg_add(in ? di : si, (v->regs.rflags & X86_RFLAGS_DF) ? -(s64)size : (s64)size,
		p->addr_bits);
	return true;
}

void vmm_handle_string_io(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	u8 buf[INSN_MAX_LEN];
	struct insn_prefixes p;
	size_t n = vmm_fetch_insn(v, buf, sizeof(buf));
	unsigned len = insn_len_for_exit(EXIT_IO, buf, n, vcpu_code_bits(&v->regs));
	u64 *cx = vmm_gpr(v, 1);

	if (!len || !insn_prefixes(buf, n, vcpu_code_bits(&v->regs), &p)) {
		vm_stop(v->vm, "string port I/O exit without INS/OUTS at rip 0x%llx",
			(unsigned long long)v->regs.rip);
		return;
	}
	if (!p.rep) {
		if (one_element(v, &p, e->io.in, e->io.size))
			vmm_retire_insn(v, v->regs.rip + len);
		return;
	}
	for (unsigned i = 0; i < STRING_IO_BATCH; i++) {
		if (!(*cx & width_mask(p.addr_bits))) {
			vmm_retire_insn(v, v->regs.rip + len);
			return;
		}
		if (!one_element(v, &p, e->io.in, e->io.size))
			return;
		reg_add(cx, -1, p.addr_bits);
	}
	/* More to do: RIP stays, the next entry executes the REP again. */
}
