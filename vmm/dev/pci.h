/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1 over an empty bus: 0xcf8 (32-bit) holds
 * the address and reads back what was written (so the mechanism is
 * detected); 0xcfc-0xcff read all ones for every bus/device/function and
 * drop writes. Byte and word accesses to 0xcf8-0xcfb are not the address
 * register: reads give all ones, writes are dropped (0xcf9 bytes are the
 * reset register, acpi_pm.c).
 */
#pragma once

#include <keel/types.h>

struct pci {
	u32 addr;
};

void pci_init(struct pci *pci);
bool pci_claims(u16 port);
u32 pci_read(struct pci *pci, u16 port, unsigned size);
void pci_write(struct pci *pci, u16 port, unsigned size, u32 val);
