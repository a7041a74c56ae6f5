// SPDX-License-Identifier: MIT
/*
 * Hosted tests of vmm/insn_decode.c: the instruction lengths Keel uses to
 * advance RIP without NRIP save, and the MOV forms emulated against open
 * bus. Encodings are written out by hand from the SDM opcode tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "tests/unit/ktest.h"

#include <keel/errno.h>
#include "vmm/insn_decode.h"

#define DECODE(m, ...)                                                        \
	({                                                                    \
		static const u8 b_[] = { __VA_ARGS__ };                       \
		insn_decode_mov(b_, sizeof(b_), 64, (m));                     \
	})
#define LEN_FOR(k, ...)                                                       \
	({                                                                    \
		static const u8 b_[] = { __VA_ARGS__ };                       \
		insn_len_for_exit((k), b_, sizeof(b_), 64);                   \
	})

static void test_exit_lengths(void **state)
{
	assert_int_equal(LEN_FOR(EXIT_CPUID, 0x0f, 0xa2, 0x90), 2);
	assert_int_equal(LEN_FOR(EXIT_RDMSR, 0x0f, 0x32), 2);
	assert_int_equal(LEN_FOR(EXIT_WRMSR, 0x0f, 0x30), 2);
	assert_int_equal(LEN_FOR(EXIT_HLT, 0xf4, 0x00), 1);
	assert_int_equal(LEN_FOR(EXIT_HYPERCALL, 0x0f, 0x01, 0xd9), 3); /* vmmcall */
	assert_int_equal(LEN_FOR(EXIT_HYPERCALL, 0x0f, 0x01, 0xc1), 3); /* vmcall */
	assert_int_equal(LEN_FOR(EXIT_IO, 0xe6, 0x80), 2);              /* out 0x80, al */
	assert_int_equal(LEN_FOR(EXIT_IO, 0xef, 0x90), 1);              /* out dx, eax */
	assert_int_equal(LEN_FOR(EXIT_IO, 0x66, 0xed), 2);              /* in ax, dx */
	/* Redundant prefixes count; REX must directly precede the opcode. */
	assert_int_equal(LEN_FOR(EXIT_CPUID, 0x2e, 0x48, 0x0f, 0xa2), 4);
}

static void test_exit_length_mismatch(void **state)
{
	assert_int_equal(LEN_FOR(EXIT_CPUID, 0x0f, 0x32), 0); /* rdmsr, not cpuid */
	assert_int_equal(LEN_FOR(EXIT_HYPERCALL, 0x0f, 0x01, 0xd8), 0); /* vmrun */
	assert_int_equal(LEN_FOR(EXIT_CPUID, 0x0f), 0);        /* truncated */
	assert_int_equal(LEN_FOR(EXIT_IO, 0xe4), 0);           /* imm8 missing */
	assert_int_equal(LEN_FOR(EXIT_SHUTDOWN, 0xf4), 0);     /* no instruction */
	/* 15 prefixes and no opcode: over the architectural limit. */
	assert_int_equal(LEN_FOR(EXIT_HLT, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xf4), 0);
}

static void test_mov_loads(void **state)
{
	struct mmio_insn m;

	assert_int_equal(DECODE(&m, 0x8b, 0x00), 0); /* mov eax, [rax] */
	assert_int_equal(m.len, 2);
	assert_int_equal(m.size, 4);
	assert_false(m.store);
	assert_int_equal(m.reg, 0);
	assert_int_equal(m.dest_size, 4);

	assert_int_equal(DECODE(&m, 0x4c, 0x8b, 0x4c, 0x24, 0x10), 0); /* mov r9, [rsp+0x10] */
	assert_int_equal(m.len, 5);
	assert_int_equal(m.size, 8);
	assert_int_equal(m.reg, 9);

	assert_int_equal(DECODE(&m, 0x0f, 0xb6, 0x0e), 0); /* movzx ecx, byte [rsi] */
	assert_int_equal(m.size, 1);
	assert_int_equal(m.dest_size, 4);
	assert_int_equal(m.reg, 1);

	assert_int_equal(DECODE(&m, 0x66, 0x0f, 0xb7, 0x07), 0); /* movzx ax, word [rdi] */
	assert_int_equal(m.size, 2);
	assert_int_equal(m.dest_size, 2);

	assert_int_equal(DECODE(&m, 0x8a, 0x26), 0); /* mov ah, [rsi] */
	assert_true(m.high_byte);
	assert_int_equal(m.reg, 0);
	assert_int_equal(DECODE(&m, 0x40, 0x8a, 0x26), 0); /* mov spl, [rsi]: REX, no AH */
	assert_false(m.high_byte);
	assert_int_equal(m.reg, 4);
}

static void test_mov_stores(void **state)
{
	struct mmio_insn m;

	/* mov [rax+0x100], ebx */
	assert_int_equal(DECODE(&m, 0x89, 0x98, 0x00, 0x01, 0x00, 0x00), 0);
	assert_int_equal(m.len, 6);
	assert_true(m.store);
	assert_int_equal(m.reg, 3);

	assert_int_equal(DECODE(&m, 0xc7, 0x05, 1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12), 0);
	assert_int_equal(m.len, 10); /* mov dword [rip+1], 0x12345678 */
	assert_true(m.has_imm);
	assert_int_equal(m.imm, 0x12345678);

	assert_int_equal(DECODE(&m, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), 0);
	assert_int_equal(m.size, 8); /* mov qword [rax], -1: imm32 sign-extended */
	assert_int_equal(m.imm, ~0ull);

	assert_int_equal(DECODE(&m, 0xc6, 0x44, 0x24, 0x08, 0x5a), 0); /* mov byte [rsp+8], 0x5a */
	assert_int_equal(m.len, 5);
	assert_int_equal(m.size, 1);

	assert_int_equal(DECODE(&m, 0xa3, 0, 0, 0, 0xc0, 0, 0, 0, 0), 0); /* mov [moffs64], eax */
	assert_int_equal(m.len, 9);
	assert_true(m.store);
}

static void test_mov_rejected(void **state)
{
	struct mmio_insn m;

	assert_int_equal(DECODE(&m, 0x89, 0xc0), -EINVAL);       /* mov eax, eax: no memory */
	assert_int_equal(DECODE(&m, 0x8b), -EINVAL);             /* truncated ModRM */
	assert_int_equal(DECODE(&m, 0x8b, 0x04), -EINVAL);       /* SIB missing */
	assert_int_equal(DECODE(&m, 0x8b, 0x05, 0, 0), -EINVAL); /* disp32 cut short */
	assert_int_equal(DECODE(&m, 0xf3, 0xa5), -ENOTSUP);      /* rep movsd */
	assert_int_equal(DECODE(&m, 0xf0, 0x01, 0x00), -ENOTSUP); /* lock add */
	assert_int_equal(DECODE(&m, 0x01, 0x00), -ENOTSUP);      /* add [rax], eax */
	assert_int_equal(DECODE(&m, 0xc7, 0x08, 0, 0, 0, 0), -ENOTSUP); /* C7 /1 undefined */
	assert_int_equal(DECODE(&m, 0xc7, 0x00, 0, 0), -EINVAL); /* imm32 cut short */
}

#define DECODE_IN(bits, m, ...)                                               \
	({                                                                    \
		static const u8 b_[] = { __VA_ARGS__ };                       \
		insn_decode_mov(b_, sizeof(b_), (bits), (m));                 \
	})

/* 32-bit code: no REX (0x48 is DEC EAX), 0x66 gives 16-bit operands, 0x67
 * 16-bit addressing, moffs are 4 bytes, mod 0 rm 5 is an absolute disp32. */
static void test_mov_32bit(void **state)
{
	u64 r[16] = { 0 };
	struct mmio_insn m;
	int seg;

	assert_int_equal(DECODE_IN(32, &m, 0x8b, 0x00), 0); /* mov eax, [eax] */
	assert_int_equal(m.size, 4);
	assert_int_equal(DECODE_IN(32, &m, 0x66, 0x89, 0x08), 0); /* mov [eax], cx */
	assert_int_equal(m.size, 2);
	assert_int_equal(m.reg, 1);
	assert_int_equal(DECODE_IN(32, &m, 0xa1, 0x00, 0x00, 0xe0, 0xfe), 0); /* mov eax, [moffs32] */
	assert_int_equal(m.len, 5);
	assert_int_equal(insn_mem_offset(&m, r, 0, &seg), 0xfee00000u);
	assert_int_equal(seg, SEG_DS);
	/* mov eax, [0xfee00030]: absolute disp32, not RIP-relative */
	assert_int_equal(DECODE_IN(32, &m, 0x8b, 0x05, 0x30, 0x00, 0xe0, 0xfe), 0);
	assert_int_equal(insn_mem_offset(&m, r, 0x1000, &seg), 0xfee00030u);
	/* mov [ebp-4], eax: SS by default; with a FS override FS */
	r[5] = 0x2000;
	assert_int_equal(DECODE_IN(32, &m, 0x89, 0x45, 0xfc), 0);
	assert_int_equal(insn_mem_offset(&m, r, 0, &seg), 0x1ffc);
	assert_int_equal(seg, SEG_SS);
	assert_int_equal(DECODE_IN(32, &m, 0x64, 0x89, 0x45, 0xfc), 0);
	insn_mem_offset(&m, r, 0, &seg);
	assert_int_equal(seg, SEG_FS);
	/* 0x48 is an instruction of its own in 32-bit mode, not REX.W */
	assert_int_equal(DECODE_IN(32, &m, 0x48, 0x8b, 0x00), -ENOTSUP);
	/* mov eax, [ebx+esi*4+8] */
	r[3] = 0x100;
	r[6] = 0x10;
	assert_int_equal(DECODE_IN(32, &m, 0x8b, 0x44, 0xb3, 0x08), 0);
	assert_int_equal(insn_mem_offset(&m, r, 0, &seg), 0x148);
}

/* 16-bit code: default 16-bit operands (0x66 -> 32), 16-bit ModRM forms. */
static void test_mov_16bit(void **state)
{
	u64 r[16] = { 0 };
	struct mmio_insn m;
	int seg;

	assert_int_equal(DECODE_IN(16, &m, 0x8b, 0x07), 0); /* mov ax, [bx] */
	assert_int_equal(m.len, 2);
	assert_int_equal(m.size, 2);
	assert_int_equal(DECODE_IN(16, &m, 0x66, 0x8b, 0x07), 0); /* mov eax, [bx] */
	assert_int_equal(m.size, 4);
	assert_int_equal(DECODE_IN(16, &m, 0x8b, 0x06, 0x34, 0x12), 0); /* mov ax, [0x1234] */
	assert_int_equal(m.len, 4);
	assert_int_equal(insn_mem_offset(&m, r, 0, &seg), 0x1234);
	r[3] = 0xfff0;
	r[6] = 0x20;
	assert_int_equal(DECODE_IN(16, &m, 0x89, 0x40, 0x02), 0); /* mov [bx+si+2], ax */
	assert_int_equal(insn_mem_offset(&m, r, 0, &seg), 0x12); /* wraps at 64 KiB */
	assert_int_equal(seg, SEG_DS);
	assert_int_equal(DECODE_IN(16, &m, 0xc7, 0x46, 0x00, 0x34, 0x12), 0); /* mov word [bp+0], imm16 */
	assert_int_equal(m.len, 5);
	assert_int_equal(m.imm, 0x1234);
	insn_mem_offset(&m, r, 0, &seg);
	assert_int_equal(seg, SEG_SS);
	assert_int_equal(DECODE_IN(16, &m, 0xa0, 0x00, 0x80), 0); /* mov al, [moffs16] */
	assert_int_equal(m.len, 3);
	/* 0x67 in 16-bit code: 32-bit addressing with a SIB byte */
	assert_int_equal(DECODE_IN(16, &m, 0x67, 0x8b, 0x04, 0x24), 0); /* mov ax, [esp] */
	assert_int_equal(m.len, 4);
	assert_int_equal(LEN_FOR(EXIT_IO, 0xf3, 0x6e), 2); /* rep outsb */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_lengths),
		cmocka_unit_test(test_exit_length_mismatch),
		cmocka_unit_test(test_mov_loads),
		cmocka_unit_test(test_mov_stores),
		cmocka_unit_test(test_mov_rejected),
		cmocka_unit_test(test_mov_32bit),
		cmocka_unit_test(test_mov_16bit),
	};

	return ktest_run_group("vmm_insn_decode", tests, argc, argv);
}
