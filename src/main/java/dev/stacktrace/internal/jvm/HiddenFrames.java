package dev.stacktrace.internal.jvm;

import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * Which frames the JVM itself leaves out of Thread.getStackTrace and jstack: methods of hidden
 * classes (lambda proxies, lambda forms) and methods annotated {@code @jdk.internal.vm.annotation.Hidden}
 * (Thread.runWith, method-handle plumbing). We show them only with showJvm, as the JVM's own.
 */
final class HiddenFrames {
    private static final String HIDDEN = "jdk.internal.vm.annotation.Hidden";

    private HiddenFrames() {}

    static boolean isHidden(Object declaringClass, String name, String descriptor) {
        if (!(declaringClass instanceof Class<?> type)) return false;
        if (type.isHidden()) return true;
        try {
            for (Method m : type.getDeclaredMethods()) {
                if (!m.getName().equals(name)) continue;
                if (!MethodType.methodType(m.getReturnType(), m.getParameterTypes()).toMethodDescriptorString().equals(descriptor)) continue;
                for (var a : m.getDeclaredAnnotations()) {
                    if (a.annotationType().getName().equals(HIDDEN)) return true;
                }
                return false;
            }
        } catch (LinkageError | RuntimeException e) {
            return false;  // a class whose methods cannot be listed: show the frame
        }
        return false;
    }
}
