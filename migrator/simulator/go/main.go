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
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator" // vAPI REST (tagging) endpoints
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

	if *trace != "" {
		f, err := os.OpenFile(*trace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fail("open trace file: %v", err)
		}
		simulator.Trace = true
		simulator.TraceFile = f
	}

	model.Service.RegisterEndpoints = true
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
