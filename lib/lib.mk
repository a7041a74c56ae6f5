# lib/: the freestanding C library bits keel.efi needs (string, printf).
KEEL_SRCS += lib/string.c lib/printf.c
