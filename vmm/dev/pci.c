// SPDX-License-Identifier: MIT
/* The empty PCI bus (pci.h). */
#include "vmm/dev/layout.h"
#include "vmm/dev/pci.h"

#define ADDR_WRITABLE 0x80fffffcu /* enable, bus, device, function, register */

void pci_init(struct pci *pci)
{
	pci->addr = 0;
}

bool pci_claims(u16 port)
{
	return port >= PLAT_PORT_PCI_ADDR && port < PLAT_PORT_PCI_DATA + 4;
}

u32 pci_read(struct pci *pci, u16 port, unsigned size)
{
	if (port == PLAT_PORT_PCI_ADDR && size == 4)
		return pci->addr;
	return 0xffffffffu; /* no device answers */
}

void pci_write(struct pci *pci, u16 port, unsigned size, u32 val)
{
	if (port == PLAT_PORT_PCI_ADDR && size == 4)
		pci->addr = val & ADDR_WRITABLE;
}
