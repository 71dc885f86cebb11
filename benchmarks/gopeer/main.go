// Command gopeer is discovery's compiled peer for benchmarks/discovery.py: a govmomi client
// (the library govc is built on) that reads the given VM property paths of every VM over a
// ContainerView with the property collector and decodes them into typed mo.VirtualMachine
// objects, as govc does.
//
// It prints one JSON line: {"vms": N, "decoded": N, "elapsed_s": ..., "login_s": ..., "cpu_s": ...}.
// elapsed_s covers the view, the retrieval and the decoding (not the login), as the pyVmomi
// baseline's time does; cpu_s is this process's user + sys CPU up to the end of the decoding.
// Credentials come from the environment (GOPEER_USERNAME / GOPEER_PASSWORD), never argv.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
)

func main() {
	server := flag.String("url", "", "SDK URL of the vCenter, e.g. http://127.0.0.1:8989/sdk")
	props := flag.String("props", "name", "comma-separated VM property paths")
	insecure := flag.Bool("insecure", true, "do not verify the server's certificate")
	flag.Parse()

	u, err := url.Parse(*server)
	if err != nil || *server == "" {
		fail("bad -url %q", *server)
	}
	ctx := context.Background()
	started := time.Now()
	soapClient := soap.NewClient(u, *insecure)
	client, err := vim25.NewClient(ctx, soapClient)
	if err != nil {
		fail("connect: %v", err)
	}
	user := url.UserPassword(os.Getenv("GOPEER_USERNAME"), os.Getenv("GOPEER_PASSWORD"))
	if err := session.NewManager(client).Login(ctx, user); err != nil {
		fail("login: %v", err)
	}
	login := time.Since(started)

	started = time.Now()
	vms, err := retrieve(ctx, client, strings.Split(*props, ","))
	if err != nil {
		fail("retrieve: %v", err)
	}
	elapsed := time.Since(started)
	cpu := cpuSeconds()
	_ = session.NewManager(client).Logout(ctx)

	out, _ := json.Marshal(map[string]interface{}{
		"vms":       len(vms),
		"decoded":   decoded(vms),
		"elapsed_s": elapsed.Seconds(),
		"login_s":   login.Seconds(),
		"cpu_s":     cpu,
	})
	fmt.Println(string(out))
}

// retrieve reads the paths of every VM through a ContainerView on the root folder and decodes
// the answer into typed objects (govmomi's ContainerView.Retrieve, as govc uses it).
func retrieve(ctx context.Context, client *vim25.Client, paths []string) ([]mo.VirtualMachine, error) {
	manager := view.NewManager(client)
	v, err := manager.CreateContainerView(ctx, client.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return nil, err
	}
	defer func() { _ = v.Destroy(ctx) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, paths, &vms); err != nil {
		return nil, err
	}
	return vms, nil
}

// decoded counts the VMs whose typed config arrived with a CPU count: proof that the answer
// was decoded into mo.VirtualMachine, not just counted.
func decoded(vms []mo.VirtualMachine) int {
	n := 0
	for i := range vms {
		if vms[i].Name != "" && vms[i].Config != nil && vms[i].Config.Hardware.NumCPU > 0 {
			n++
		}
	}
	return n
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return -1
	}
	seconds := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return seconds(usage.Utime) + seconds(usage.Stime)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gopeer: "+format+"\n", args...)
	os.Exit(1)
}
