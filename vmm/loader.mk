# vmm/loader/: the guest loaders (flat, Linux bzImage, Multiboot ELF), the
# memory map and identity map they describe; vmm/acpi/: the ACPI tables.
# All portable: tested hosted against plain buffers.
LOADER_SRCS := vmm/loader/loader.c vmm/loader/e820.c vmm/loader/pagetable.c \
	vmm/loader/flat.c vmm/loader/linux.c vmm/loader/multiboot.c vmm/loader/elf.c
ACPI_SRCS := vmm/acpi/acpi.c vmm/acpi/aml.c vmm/acpi/dsdt.c vmm/acpi/fadt.c vmm/acpi/madt.c

KEEL_SRCS += $(LOADER_SRCS) $(ACPI_SRCS)

HOSTED_TESTS += vmm_loader_test vmm_acpi_test
$(call hosted_program,vmm_loader_test,$(LOADER_SRCS) vmm/loader/loader_test.c,-lcmocka)
$(call hosted_program,vmm_acpi_test,$(ACPI_SRCS) vmm/acpi/acpi_test.c,-lcmocka)
