package dev.stacktrace.cli;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.VirtualMachine;
import dev.stacktrace.agent.Agent;
import dev.stacktrace.jmx.NativeStacks;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Properties;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Drives a running JVM from outside: loads this jar into it as an agent through the Attach API
 * (which registers the MBean) unless it is loaded already, starts the JVM's local JMX agent (local
 * connections only; the JDK offers no way to stop it again), and talks to the MBean over JMX.
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

    /** Attaches, loads the agent if it is not loaded yet, and connects to the MBean. */
    static AttachClient attach(long pid) throws Exception {
        VirtualMachine vm = open(pid);
        String url;
        try {
            if (vm.getSystemProperties().getProperty(Agent.RUNNING_PROPERTY) == null) load(vm, pid, "");
            url = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        return new AttachClient(JMXConnectorFactory.connect(new JMXServiceURL(url)));
    }

    /**
     * Loads the agent with these options (again, if it runs already: it applies what is new or says
     * why it cannot) and returns what the agent now runs, as it describes itself.
     */
    static String loadAgent(long pid, String options) throws Exception {
        VirtualMachine vm = open(pid);
        try {
            load(vm, pid, options);
            return vm.getSystemProperties().getProperty(Agent.RUNNING_PROPERTY, "loaded");
        } finally {
            vm.detach();
        }
    }

    private static VirtualMachine open(long pid) throws IOException {
        if (pid == ProcessHandle.current().pid()) throw new IllegalArgumentException("cannot attach to this very process");
        try {
            return VirtualMachine.attach(Long.toString(pid));
        } catch (com.sun.tools.attach.AttachNotSupportedException e) {
            throw new IllegalArgumentException("cannot attach to process " + pid + ": " + e.getMessage()
                    + " (is it a JVM of the same user, started with a JDK?)", e);
        }
    }

    /** The agent's own reason for a failed load is in a system property of the target; the JDK only says it failed. */
    private static void load(VirtualMachine vm, long pid, String options) throws Exception {
        try {
            vm.loadAgent(ownJar().toString(), options);
        } catch (AgentInitializationException e) {
            Properties properties = vm.getSystemProperties();
            String reason = properties.getProperty(Agent.ERROR_PROPERTY);
            throw new IllegalStateException("the agent in process " + pid
                    + (options.isEmpty() ? " did not start: " : " did not take '" + options + "': ")
                    + (reason != null ? reason : e.getMessage() + " (see that process's stderr)"), e);
        }
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
