package dev.stacktrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {
    @Test
    void defaultsAndTheFirstOptionsKeepTheirMeaning() {
        AgentOptions o = AgentOptions.parse("port=9464,profile=CPU,interval=500us,top=5,dumpSignal=59");
        assertEquals(new AgentOptions(9464, "127.0.0.1", "cpu", Duration.ofNanos(500_000), 5, 59), o);
        assertNull(o.authFile());
        assertEquals(List.of(), o.allowedHosts());
    }

    @Test
    void securityOptions() {
        AgentOptions o = AgentOptions.parse("port=1,authFile=/etc/st/auth,tls=/etc/st/k.p12,tlsPasswordFile=/etc/st/pw,"
                + "allowedHosts=A.example;b.example,dumpFile=/tmp/d.txt");
        assertEquals(Path.of("/etc/st/auth"), o.authFile());
        assertEquals(Path.of("/etc/st/k.p12"), o.tls());
        assertEquals(Path.of("/etc/st/pw"), o.tlsPasswordFile());
        assertEquals(List.of("a.example", "b.example"), o.allowedHosts());
        assertEquals(Path.of("/tmp/d.txt"), o.dumpFile());
        assertTrue(o.httpSettings().contains("authFile=/etc/st/auth"));
    }

    @Test
    void theAttachCliCommands() {
        AgentOptions o = AgentOptions.parse("command=flamegraph-start,mode=wall,interval=2500000ns,out=/tmp/d/reply");
        assertEquals(new AgentOptions.Command("flamegraph-start", Path.of("/tmp/d/reply"), "wall", false, "html"), o.command());
        assertEquals(Duration.ofNanos(2_500_000), o.interval());
        assertEquals(0, o.port());
        assertTrue(AgentOptions.parse("command=flamegraph-write,stop=true,out=/r").command().stop());
        assertNull(AgentOptions.parse("port=1").command());

        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("command=status"))
                .getMessage().contains("out=<file>"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("command=reboot,out=/r"))
                .getMessage().contains("command must be one of"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("command=status,port=1,out=/r"))
                .getMessage().contains("not port="));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("port=1,out=/r"))
                .getMessage().contains("command=, which is missing"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("command=start,mode=gpu,out=/r"))
                .getMessage().contains("mode must be cpu"));
    }

    @Test
    void badOptionsSayWhatIsAccepted() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("tlsPasswordFile=/x"))
                .getMessage().contains("tls=<keystore>"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("password=x"))
                .getMessage().contains("authFile=<path>"));
        assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("port=1,authFile="));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("authFile=/etc/st/auth"))
                .getMessage().contains("port=<n>"), "auth without a server would protect nothing");
        assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("host="));
    }

    @Test
    void theIntervalIsBoundedLikeEverywhereElse() {
        assertEquals(Duration.ofSeconds(60), AgentOptions.parse("interval=60s").interval());
        // a huge interval once hung the profiler's stop: refused at the door, with the range in the message
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("interval=61s"))
                .getMessage().contains("from 100us to 60s"));
        assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("interval=50us"));
    }

    @Test
    void pushOptions() {
        AgentOptions o = AgentOptions.parse("pyroscope=http://pyro:4040,otlp=http://collector:4318/,pushInterval=30s,"
                + "appName=checkout,labels=env=prod;region=eu-1");
        PushOptions push = o.push();
        assertTrue(push.enabled());
        assertEquals("http://pyro:4040", push.pyroscope().toString());
        assertEquals("http://collector:4318/", push.otlp().toString());
        assertEquals(Duration.ofSeconds(30), push.interval());
        assertEquals("checkout", push.appName());
        assertEquals(List.of("env", "region"), List.copyOf(push.labels().keySet()));
        assertEquals("eu-1", push.labels().get("region"));

        PushOptions defaults = AgentOptions.parse("otlp=http://127.0.0.1:4318").push();
        assertEquals(Duration.ofSeconds(15), defaults.interval());
        assertEquals(PushOptions.defaultAppName(), defaults.appName());
        assertTrue(defaults.labels().isEmpty());
        assertEquals(PushOptions.NONE, AgentOptions.parse("port=1").push());
    }

    @Test
    void badPushOptionsSayWhatIsAccepted() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("pyroscope=pyro:4040"))
                .getMessage().contains("http://"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("otlp=ftp://x"))
                .getMessage().contains("otlp must be"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse("otlp=http://x:4318,pushInterval=100ms")).getMessage().contains("1s to 10m"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse("otlp=http://x:4318,pushInterval=11m")).getMessage().contains("1s to 10m"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse("otlp=http://x:4318,labels=env")).getMessage().contains("key=value"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse("otlp=http://x:4318,labels=1x=a")).getMessage().contains("key=value"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse("otlp=http://x:4318,labels=a=b;a=c")).getMessage().contains("twice"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse("otlp=http://x:4318,appName=a{b}")).getMessage().contains("appName"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("labels=a=b"))
                .getMessage().contains("pyroscope=<url> or otlp=<url>"));
    }
}
