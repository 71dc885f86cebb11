// Command vcsim starts govmomi's vCenter simulator for migrator's tests, demo and benchmarks.
//
// It prints one JSON line on stdout ({"url": ..., "cert": ...}) once the SOAP endpoint
// listens, then serves until SIGTERM/SIGINT. Credentials come from the environment
// (VCSIM_USERNAME / VCSIM_PASSWORD) so they never appear in a process listing; when set,
// the simulator rejects any other login.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator" // vAPI REST (tagging) endpoints
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	useTLS := flag.Bool("tls", false, "serve https with a self-signed certificate")
	trace := flag.String("trace", "", "append every SOAP request and response to this file")
	datacenters := flag.Int("dc", 1, "datacenters")
	clusters := flag.Int("cluster", 1, "clusters per datacenter")
	clusterHosts := flag.Int("cluster-host", 3, "hosts per cluster")
	hosts := flag.Int("host", 0, "standalone hosts per datacenter")
	machines := flag.Int("vm", 2, "VMs per resource pool")
	portgroups := flag.Int("pg", 1, "distributed portgroups per datacenter")
	datastores := flag.Int("ds", 1, "datastores")
	instanceUUID := flag.String("instance-uuid", "", "about.instanceUuid (vcsim 0.24 gives every simulator the same)")
	flag.Parse()

	model := simulator.VPX()
	model.Datacenter = *datacenters
	model.Cluster = *clusters
	model.ClusterHost = *clusterHosts
	model.Host = *hosts
	model.Machine = *machines
	model.Portgroup = *portgroups
	model.Datastore = *datastores
	if err := model.Create(); err != nil {
		fail("create model: %v", err)
	}
	if *instanceUUID != "" { // estates of several simulators: each vCenter its own identity
		si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
		si.Content.About.InstanceUuid = *instanceUUID
	}

	if *trace != "" {
		f, err := os.OpenFile(*trace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fail("open trace file: %v", err)
		}
		simulator.Trace = true
		simulator.TraceFile = f
	}

	model.Service.RegisterEndpoints = true
	model.Service.HandleFunc("/migrator/", harness)
	model.Service.Listen = &url.URL{Host: *listen}
	if user := os.Getenv("VCSIM_USERNAME"); user != "" {
		model.Service.Listen.User = url.UserPassword(user, os.Getenv("VCSIM_PASSWORD"))
	}
	if *useTLS {
		model.Service.TLS = new(tls.Config)
	}

	server := model.Service.NewServer()
	out := map[string]string{}
	if *useTLS {
		certFile, err := server.CertificateFile()
		if err != nil {
			fail("write certificate: %v", err)
		}
		out["cert"] = certFile
	}
	public := *server.URL // a copy: the service checks logins against server.URL.User
	public.User = nil
	out["url"] = public.String()
	line, _ := json.Marshal(out)
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	server.Close()
	model.Remove()
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "vcsim: "+format+"\n", args...)
	os.Exit(1)
}

// harness serves the shapes real vCenters have that vcsim 0.24 cannot create through the
// vSphere API, for the test seeder only (POST, same credentials as the SDK):
//
//	/migrator/move-into-vapp   vm, vapp: the VM moves into the vApp as vCenter does it
//	                           (no parent folder, parentVApp and resourcePool = the vApp)
//	/migrator/opaque-network   name, id, type: an NSX-T opaque network in the first datacenter
//	/migrator/guest-interface  vm, mac, network, ip (repeated): a guest.net entry that is not
//	                           a virtual NIC (deviceConfigId -1: a docker bridge, an NSX router port)
func harness(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	want := os.Getenv("VCSIM_USERNAME")
	if r.Method != http.MethodPost || !ok || want == "" || user != want || pass != os.Getenv("VCSIM_PASSWORD") {
		http.Error(w, "POST with the simulator's credentials", http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var err error
	switch r.URL.Path {
	case "/migrator/move-into-vapp":
		err = moveIntoVApp(r.Form.Get("vm"), r.Form.Get("vapp"))
	case "/migrator/opaque-network":
		err = addOpaqueNetwork(r.Form.Get("name"), r.Form.Get("id"), r.Form.Get("type"))
	case "/migrator/guest-interface":
		err = addGuestInterface(r.Form.Get("vm"), r.Form.Get("mac"), r.Form.Get("network"), r.Form["ip"])
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "ok")
}

func findVM(id string) (*simulator.VirtualMachine, error) {
	vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: id}).(*simulator.VirtualMachine)
	if !ok {
		return nil, fmt.Errorf("no VM %q", id)
	}
	return vm, nil
}

func moveIntoVApp(vmID, vappID string) error {
	vm, err := findVM(vmID)
	if err != nil {
		return err
	}
	vapp, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualApp", Value: vappID}).(*simulator.VirtualApp)
	if !ok {
		return fmt.Errorf("no vApp %q", vappID)
	}
	if vm.Parent != nil {
		if folder, ok := simulator.Map.Get(*vm.Parent).(*simulator.Folder); ok {
			simulator.Map.RemoveReference(folder, &folder.ChildEntity, vm.Self)
		}
	}
	if vm.ResourcePool != nil {
		if pool, ok := simulator.Map.Get(*vm.ResourcePool).(*simulator.ResourcePool); ok {
			simulator.Map.RemoveReference(pool, &pool.Vm, vm.Self)
		}
	}
	simulator.Map.AppendReference(vapp, &vapp.Vm, vm.Self)
	ref := vapp.Self
	simulator.Map.WithLock(vm, func() {
		vm.Parent = nil // vCenter: "null for VirtualMachine objects that are part of a VirtualApp"
		vm.ParentVApp = &ref
		vm.ResourcePool = &ref
	})
	return nil
}

func addOpaqueNetwork(name, id, kind string) error {
	dc, ok := simulator.Map.Any("Datacenter").(*simulator.Datacenter)
	if !ok {
		return fmt.Errorf("no datacenter")
	}
	folder := simulator.Map.Get(dc.NetworkFolder).(*simulator.Folder)
	return folder.AddOpaqueNetwork(types.OpaqueNetworkSummary{
		NetworkSummary:    types.NetworkSummary{Name: name},
		OpaqueNetworkId:   id,
		OpaqueNetworkType: kind,
	})
}

func addGuestInterface(vmID, mac, network string, ips []string) error {
	vm, err := findVM(vmID)
	if err != nil {
		return err
	}
	nic := types.GuestNicInfo{Network: network, IpAddress: ips, MacAddress: mac, Connected: true, DeviceConfigId: -1}
	net := append(append([]types.GuestNicInfo{}, vm.Guest.Net...), nic)
	simulator.Map.Update(vm, []types.PropertyChange{{Name: "guest.net", Val: net}})
	return nil
}
