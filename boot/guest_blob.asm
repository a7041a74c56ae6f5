; SPDX-License-Identifier: MIT
; The default test guest (guest/, built into $(BUILD)/guest/selftest.bin),
; embedded in keel.efi so a bare `make run` needs nothing on the ESP.
section .note.GNU-stack noalloc noexec nowrite progbits ; no executable stack
section .rodata
align 4096
global guest_selftest_start
global guest_selftest_end
guest_selftest_start:
	incbin "guest/selftest.bin"
guest_selftest_end:
