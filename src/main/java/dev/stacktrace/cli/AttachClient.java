package dev.stacktrace.cli;

import com.sun.tools.attach.VirtualMachine;
import dev.stacktrace.jmx.NativeStacks;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Drives a running JVM from outside: loads this jar into it as an agent through the Attach API
 * (which registers the MBean), starts its local JMX agent, and talks to the MBean over JMX.
 */
final class AttachClient implements AutoCloseable {
    private final JMXConnector connector;
    private final MBeanServerConnection server;
    private final ObjectName name;

    private AttachClient(JMXConnector connector) throws IOException, javax.management.MalformedObjectNameException {
        this.connector = connector;
        this.server = connector.getMBeanServerConnection();
        this.name = new ObjectName(NativeStacks.NAME);
    }

    static AttachClient attach(long pid) throws Exception {
        if (pid == ProcessHandle.current().pid()) throw new IllegalArgumentException("cannot attach to this very process");
        VirtualMachine vm;
        try {
            vm = VirtualMachine.attach(Long.toString(pid));
        } catch (com.sun.tools.attach.AttachNotSupportedException e) {
            throw new IllegalArgumentException("cannot attach to process " + pid + ": " + e.getMessage()
                    + " (is it a JVM of the same user, started with a JDK?)", e);
        }
        String url;
        try {
            vm.loadAgent(ownJar().toString(), "");
            url = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        return new AttachClient(JMXConnectorFactory.connect(new JMXServiceURL(url)));
    }

    /** The jar this class was loaded from: it is the agent too. */
    static Path ownJar() throws URISyntaxException {
        return Path.of(AttachClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    Object invoke(String operation, Object[] args, String[] signature) throws Exception {
        try {
            return server.invoke(name, operation, args, signature);
        } catch (javax.management.RuntimeMBeanException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    Object attribute(String attribute) throws Exception {
        return server.getAttribute(name, attribute);
    }

    @Override
    public void close() throws IOException {
        connector.close();
    }
}
