// SPDX-License-Identifier: MIT
/*
 * VMRUN's consistency checks (APM vol. 2, "Canonicalization and
 * Consistency Checks"): each bad VMCB must give #VMEXIT with EXITCODE =
 * VMEXIT_INVALID and never run L2. The VMCB is rebuilt afterwards.
 * EXITCODE is compared in its low 32 bits: the APM's -1 is all ones, but
 * QEMU's own SVM writes 0x00000000ffffffff (its exit codes are 32-bit).
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define VEC_NMI 2

static int invalid(void (*spoil)(u64 vmcb), const char *what, char *why, size_t len)
{
	struct l2_exit e;

	if (l1_need_l2(why, len))
		return -1;
	l1_l2_start(l2_nop);
	spoil(L1_VMCB);
	l1_enter(&e);
	l1_vmcb_defaults(L1_VMCB);
	if ((u32)e.code != (u32)VMEXIT_INVALID) {
		l1_explain(&e, what, why, len);
		return -1;
	}
	return 0;
}

static void asid0(u64 v)
{
	*vmcb32(v, VMCB_ASID) = 0;
}

static void efer_svme_clear(u64 v)
{
	*vmcb64(v, VMCB_EFER) &= ~EFER_SVME;
}

static void cr0_nw_without_cd(u64 v)
{
	*vmcb64(v, VMCB_CR0) = (*vmcb64(v, VMCB_CR0) & ~CR0_CD) | CR0_NW;
}

static void eventinj_nmi_as_exception(u64 v)
{
	*vmcb64(v, VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | VEC_NMI;
}

static void eventinj_reserved_type(u64 v)
{
	*vmcb64(v, VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_RESERVED1 | 0x20;
}

static void no_vmrun_intercept(u64 v)
{
	*vmcb32(v, VMCB_INTERCEPT_MISC2) &= ~INTERCEPT_VMRUN;
}

NESTED_CHECK(check_vmcb_invalid_asid0)
{
	return invalid(asid0, "ASID 0", why, len);
}

NESTED_CHECK(check_vmcb_invalid_efer_svme)
{
	return invalid(efer_svme_clear, "EFER.SVME clear in the save area", why, len);
}

NESTED_CHECK(check_vmcb_invalid_cr0_nw)
{
	return invalid(cr0_nw_without_cd, "CR0.NW=1 with CD=0", why, len);
}

NESTED_CHECK(check_vmcb_invalid_eventinj)
{
	if (invalid(eventinj_nmi_as_exception, "EVENTINJ exception with vector 2", why, len))
		return -1;
	return invalid(eventinj_reserved_type, "EVENTINJ type 1 (reserved)", why, len);
}

NESTED_CHECK(check_vmcb_invalid_no_vmrun_intercept)
{
	return invalid(no_vmrun_intercept, "VMRUN intercept clear", why, len);
}
