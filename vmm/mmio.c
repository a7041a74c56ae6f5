// SPDX-License-Identifier: MIT
/*
 * MMIO: a guest access to a guest-physical address in no memslot. Keel
 * never maps host memory there. It decodes the faulting MOV (reading the
 * instruction through the guest's page tables, in the guest's mode), hands
 * it to the platform's devices (LAPIC, IOAPIC), and completes it as open
 * bus otherwise (loads return all ones, stores are dropped); then RIP moves
 * on. Anything it cannot complete exactly stops the VM with a report.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "mmu/mmu.h"
#include "vmm/dev/platform.h"
#include "vmm/insn_decode.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

#define OPEN_BUS_LOG_LIMIT 8 /* log the first few accesses; count them all */

static u64 ones(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* Write 'val' into the register as a 'size'-byte destination does: 32-bit
 * writes zero-extend, 8- and 16-bit ones keep the other bits. */
static void write_reg(struct vcpu *v, const struct mmio_insn *m, u64 val)
{
	u64 *r = vmm_gpr(v, m->reg);

	if (m->high_byte)
		*r = (*r & ~0xff00ull) | ((val & 0xff) << 8);
	else if (m->dest_size >= 4)
		*r = val & ones(m->dest_size);
	else
		*r = (*r & ~ones(m->dest_size)) | (val & ones(m->dest_size));
}

static u64 store_value(struct vcpu *v, const struct mmio_insn *m)
{
	u64 r;

	if (m->has_imm)
		return m->imm & ones(m->size);
	r = *vmm_gpr(v, m->reg);
	return (m->high_byte ? r >> 8 : r) & ones(m->size);
}

static void log_access(struct vcpu *v, bool store, unsigned size, gpa_t gpa, u64 val)
{
	struct vm *vm = v->vm;
	u64 n = vm->open_bus_reads + vm->open_bus_writes;

	if (n > OPEN_BUS_LOG_LIMIT)
		return;
	if (n == OPEN_BUS_LOG_LIMIT) {
		host_log("keel: vm %s: open bus: further accesses are counted, not logged\n",
			 vm->name);
		return;
	}
	if (store)
		host_log("keel: vm %s: open bus: %u-byte write of 0x%llx to gpa 0x%llx dropped "
			 "(rip 0x%llx)\n", vm->name, size, (unsigned long long)(val & ones(size)),
			 (unsigned long long)gpa.v, (unsigned long long)v->regs.rip);
	else
		host_log("keel: vm %s: open bus: %u-byte read of gpa 0x%llx -> all ones "
			 "(rip 0x%llx)\n", vm->name, size, (unsigned long long)gpa.v,
			 (unsigned long long)v->regs.rip);
}

static bool access_matches(const struct vm_exit *e, const struct mmio_insn *m)
{
	return m->store == !!(e->tdp.access & MMU_ACC_WRITE);
}

/* One piece of an access: RAM through the memslots, a device of the
 * platform, or open bus (all ones, dropped). */
static void access_piece(struct vcpu *v, gpa_t gpa, unsigned size, bool store, u64 *val)
{
	bool natural = size == 1 || size == 2 || size == 4 || size == 8;
	int r = store ? vmm_write_guest(v->vm, gpa, val, size) : vmm_read_guest(v->vm, gpa, val, size);

	if (!r)
		return;
	if (r == -EPERM)
		return; /* a write to a read-only slot (ROM): dropped */
	if (natural && v->vm->plat && plat_mmio(v->vm->plat, v->id, gpa, size, store, val))
		return;
	log_access(v, store, size, gpa, *val);
	if (store) {
		v->vm->open_bus_writes++;
	} else {
		*val = ones(size);
		v->vm->open_bus_reads++;
	}
}

/*
 * An access that crosses a page boundary may be half RAM, half not (the
 * last bytes of RAM and the first of the hole above): each half gets what
 * its own address holds, so the RAM half is really read or written. The
 * faulting gpa names only the half that faulted; the operand's linear
 * address, translated page by page, gives both.
 */
static bool split_access(struct vcpu *v, const struct mmio_insn *m, u64 *val)
{
	u64 r[16], lin, first;
	gpa_t g0, g1;
	int seg;

	for (unsigned i = 0; i < 16; i++)
		r[i] = *vmm_gpr(v, i);
	lin = insn_mem_offset(m, r, v->regs.rip + m->len, &seg);
	lin = vmm_seg_linear(v, seg, lin);
	first = PAGE_SIZE - (lin & ~PAGE_MASK);
	if (first >= m->size || vmm_gva_to_gpa(v, GVA(lin), &g0) ||
	    vmm_gva_to_gpa(v, GVA(lin + first), &g1))
		return false;
	access_piece(v, g0, (unsigned)first, m->store, val);
	access_piece(v, g1, m->size - (unsigned)first, m->store, (u64 *)((u8 *)val + first));
	return true;
}

void vmm_handle_open_bus(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	u8 buf[INSN_MAX_LEN];
	struct mmio_insn m;
	u64 val = 0;
	size_t n;
	int r;

	if (e->tdp.on_walk || (e->tdp.access & MMU_ACC_EXEC)) {
		vm_stop(v->vm, "%s at gpa 0x%llx, which is in no memslot",
			e->tdp.on_walk ? "guest page walk" : "instruction fetch",
			(unsigned long long)e->tdp.gpa.v);
		return;
	}
	n = vmm_fetch_insn(v, buf, sizeof(buf));
	r = insn_decode_mov(buf, n, vcpu_code_bits(&v->regs), &m);
	if (r || !access_matches(e, &m)) {
		v->vm->ops->dump(v);
		vm_stop(v->vm, "access to unbacked gpa 0x%llx by an instruction Keel does not "
			"emulate (rip 0x%llx, %zu bytes %02x %02x %02x %02x)",
			(unsigned long long)e->tdp.gpa.v, (unsigned long long)v->regs.rip, n,
			n > 0 ? buf[0] : 0, n > 1 ? buf[1] : 0, n > 2 ? buf[2] : 0,
			n > 3 ? buf[3] : 0);
		return;
	}
	v->stats.mmio++;
	if (m.store)
		val = store_value(v, &m);
	if (!split_access(v, &m, &val))
		access_piece(v, e->tdp.gpa, m.size, m.store, &val);
	if (!m.store)
		write_reg(v, &m, val & ones(m.size));
	vmm_retire_insn(v, v->regs.rip + m.len);
}
