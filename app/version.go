package app

// Version is the build's version, set with -ldflags "-X github.com/acpbridge/acpbridge/app.Version=…".
var Version = "dev"
