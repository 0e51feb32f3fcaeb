# vfio-probe: build and install.
#   make                 release build (static Swift runtime: needs glibc, libstdc++, libgcc_s, libpci, zlib at run time)
#   make install         install the binary, man page, README and shell completions under $(DESTDIR)$(PREFIX)
#   make test            every test (scripts/test-all.sh)
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/vfio-probe
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
BUILD = .build/release/vfio-probe

.PHONY: all build install uninstall test completions

all: build

build:
	swift build -c release --static-swift-stdlib --product vfio-probe

completions: build
	mkdir -p .build/completions
	$(BUILD) --generate-completion-script bash > .build/completions/vfio-probe.bash
	$(BUILD) --generate-completion-script zsh > .build/completions/_vfio-probe
	$(BUILD) --generate-completion-script fish > .build/completions/vfio-probe.fish

install: build completions
	install -d $(BINDIR) $(MANDIR) $(DOCDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 $(BUILD) $(BINDIR)/vfio-probe
	install -m 0644 man/vfio-probe.1 $(MANDIR)/vfio-probe.1
	install -m 0644 README.md $(DOCDIR)/README.md
	install -m 0644 .build/completions/vfio-probe.bash $(BASHDIR)/vfio-probe
	install -m 0644 .build/completions/_vfio-probe $(ZSHDIR)/_vfio-probe
	install -m 0644 .build/completions/vfio-probe.fish $(FISHDIR)/vfio-probe.fish

uninstall:
	rm -f $(BINDIR)/vfio-probe $(MANDIR)/vfio-probe.1 $(DOCDIR)/README.md $(BASHDIR)/vfio-probe $(ZSHDIR)/_vfio-probe $(FISHDIR)/vfio-probe.fish
	-rmdir $(DOCDIR)

test:
	./scripts/test-all.sh
